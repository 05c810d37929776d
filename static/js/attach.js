// Files for a ticket or a comment: drag and drop, the picker, or paste an image into the editor,
// sent at once with a progress bar. A ticket's files replace its Attachments section with the
// server's answer; a comment's files are uploaded to the ticket and go with the comment when it
// is posted (hidden attachment_ids; an image's markdown is put at the caret). Without this file
// the same forms send the files in the POST itself.
(function () {
  "use strict";

  function csrf(form) {
    var field = form.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  function status(picker, words, percent) {
    var box = picker.querySelector(".upload-status");
    box.hidden = false;
    picker.querySelector(".upload-words").textContent = words;
    var bar = picker.querySelector(".upload-progress");
    if (percent == null) bar.removeAttribute("value"); else bar.value = percent;
  }

  function insertAtCaret(field, text) {
    var at = field.selectionStart || field.value.length;
    var before = field.value.slice(0, at), after = field.value.slice(field.selectionEnd || at);
    var gap = before && !/\n$/.test(before) ? "\n" : "";
    field.value = before + gap + text + "\n" + after;
    field.selectionStart = field.selectionEnd = (before + gap + text + "\n").length;
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function chip(picker, name) {
    var item = document.createElement("li");
    item.className = "upload-chip";
    item.textContent = name;
    picker.querySelector(".upload-chips").appendChild(item);
  }

  function send(form, files) {
    var picker = form.querySelector("[data-file-picker]");
    if (!picker || !files.length || form.dataset.uploading) return;
    var forComment = form.dataset.upload === "comment";
    var data = new FormData();
    data.append("csrf_token", csrf(form));
    Array.prototype.forEach.call(files, function (file) { data.append("files", file, file.name || "pasted-image.png"); });
    var xhr = new XMLHttpRequest();
    xhr.open("POST", forComment ? form.dataset.uploadUrl : form.getAttribute("action"));
    xhr.setRequestHeader("X-CSRFToken", csrf(form));
    if (forComment) {
      xhr.setRequestHeader("Accept", "application/json");
    } else {
      xhr.setRequestHeader("HX-Request", "true");
      xhr.setRequestHeader("HX-Request-Type", "partial");
    }
    form.dataset.uploading = "1";
    form.classList.add("is-uploading");
    status(picker, "Uploading " + files.length + (files.length === 1 ? " file…" : " files…"), 0);
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) status(picker, "Uploading… " + Math.round(100 * event.loaded / event.total) + " %",
                                         Math.round(100 * event.loaded / event.total));
    });
    xhr.addEventListener("loadend", function () {
      delete form.dataset.uploading;
      form.classList.remove("is-uploading");
      var input = picker.querySelector("input[type=file]");
      if (input) input.value = "";
      if (!xhr.status) return status(picker, "Upload failed: the connection dropped. Nothing was stored; try again.", 0);
      if (!forComment) {
        return htmx.swap({ text: xhr.responseText, target: document.getElementById("attachments"), swap: "outerHTML" });
      }
      var answer = {};
      try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = {}; }
      if (xhr.status !== 201) {
        var error = answer.error || {};
        return status(picker, (error.fields && error.fields.files) || error.message || "Upload refused (" + xhr.status + ").", 0);
      }
      var field = form.querySelector("textarea");
      answer.attachments.forEach(function (file) {
        var keep = document.createElement("input");
        keep.type = "hidden"; keep.name = "attachment_ids"; keep.value = file.id;
        form.appendChild(keep);
        chip(picker, file.filename);
        if (file.inline && field) insertAtCaret(field, file.markdown);
      });
      status(picker, answer.attachments.length + " attached; they go with your comment.", 100);
    });
    xhr.send(data);
  }

  function uploadForm(target) {
    return target && target.closest ? target.closest("form[data-upload]") : null;
  }

  document.addEventListener("change", function (event) {
    var form = uploadForm(event.target);
    if (form && event.target.type === "file" && event.target.files.length) send(form, event.target.files);
  });

  document.addEventListener("dragover", function (event) {
    var form = uploadForm(event.target);
    if (!form || !event.dataTransfer || Array.prototype.indexOf.call(event.dataTransfer.types, "Files") < 0) return;
    event.preventDefault();
    form.classList.add("is-dropping");
  });
  document.addEventListener("dragleave", function (event) {
    var form = uploadForm(event.target);
    if (form && !form.contains(event.relatedTarget)) form.classList.remove("is-dropping");
  });
  document.addEventListener("drop", function (event) {
    var form = uploadForm(event.target);
    if (!form || !event.dataTransfer || !event.dataTransfer.files.length) return;
    event.preventDefault();
    form.classList.remove("is-dropping");
    send(form, event.dataTransfer.files);
  });

  document.addEventListener("paste", function (event) {
    var form = uploadForm(event.target);
    var files = event.clipboardData ? event.clipboardData.files : [];
    if (!form || !files || !files.length) return;
    event.preventDefault();  // the file goes up; its text would only be the file's name
    send(form, files);
  });
})();
