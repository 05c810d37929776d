"""The deployment files: compose.yaml, the Dockerfile, .env.example, the locks, gunicorn's config, CI."""
import importlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from webapp.ops.http import PROXY_HOPS

ROOT = Path(__file__).resolve().parent.parent
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
COMPOSE = (ROOT / "compose.yaml").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()
# Read by the code but deliberately not operator settings in .env (reason given).
NOT_IN_ENV_EXAMPLE = {
    "INSTANCE_PATH": "embedded (SQLite) mode only",
    "GUNICORN_BIND": "fixed by the Dockerfile (0.0.0.0:3080 inside the container)",
    "PROMETHEUS_MULTIPROC_DIR": "fixed by the Dockerfile (/tmp/prometheus, a tmpfs in compose)",
}
# In .env.example but for compose itself, not passed into the app containers.
COMPOSE_ONLY = {"PORT": "the proxy's host port; gunicorn binds GUNICORN_BIND inside the container"}


def tool(name: str) -> str:
    """A command from this virtualenv or PATH; skip (with the way to get it) when absent."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed (.ci/run installs it when it can)")
    return found


def variables_read_by_the_code() -> set[str]:
    pattern = re.compile(r"(?:os\.environ\.get|\benv\.get|_env_int|os\.getenv)\(\s*[\"']([A-Z][A-Z0-9_]+)[\"']")
    sources = [*ROOT.joinpath("webapp").rglob("*.py"), ROOT / "worker.py", ROOT / "wsgi.py"]
    names = {name for path in sources for name in pattern.findall(path.read_text())}
    return names | {f"PROXY_FIX_{hop}" for hop in PROXY_HOPS}


def env_example_settings() -> set[str]:
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE, re.M))


def test_env_example_documents_every_variable_the_code_reads():
    undocumented = {name for name in variables_read_by_the_code() - set(NOT_IN_ENV_EXAMPLE)
                    if not re.search(rf"\b{name}\b", ENV_EXAMPLE)}
    assert undocumented == set()


def test_every_setting_in_env_example_reaches_compose():
    unused = {name for name in env_example_settings() if f"${{{name}" not in COMPOSE}
    assert unused == set()


def test_app_settings_are_passed_to_web_worker_and_cron():
    app_block = COMPOSE.split("x-app: &app", 1)[1].split("\nservices:", 1)[0]
    missing = {name for name in variables_read_by_the_code() - set(NOT_IN_ENV_EXAMPLE) - set(COMPOSE_ONLY)
               if not re.search(rf"^\s+{name}:", app_block, re.M)}
    assert missing == set()
    for service in ("web", "worker", "cron"):
        assert re.search(rf"^  {service}:\n    <<: \*app\n    command: \[\"{service}\"\]", COMPOSE, re.M)


def test_secrets_have_no_defaults():
    for name in ("SECRET_KEY", "POSTGRES_PASSWORD"):
        assert re.search(rf"^{name}=$", ENV_EXAMPLE, re.M)
        assert f"${{{name}:?" in COMPOSE


def test_compose_config_is_valid_and_demands_the_secrets(tmp_path):
    compose = tool("docker-compose")
    empty_env = tmp_path / "empty.env"
    empty_env.write_text("")
    command = [compose, "--env-file", str(empty_env), "-f", str(ROOT / "compose.yaml"), "config", "-q"]
    base = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    ok = subprocess.run(command, env={**base, "SECRET_KEY": "s", "POSTGRES_PASSWORD": "p"},
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    missing = subprocess.run(command, env={**base, "SECRET_KEY": "s"}, capture_output=True, text=True, timeout=60)
    assert missing.returncode != 0 and "set POSTGRES_PASSWORD in .env" in missing.stderr


def test_compose_publishes_port_3080_by_default_and_scales_web_without_port_clashes(tmp_path):
    compose = tool("docker-compose")
    empty_env = tmp_path / "empty.env"
    empty_env.write_text("")
    resolved = subprocess.run(
        [compose, "--env-file", str(empty_env), "-f", str(ROOT / "compose.yaml"), "config"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SECRET_KEY": "s", "POSTGRES_PASSWORD": "p",
             "PORT": "8088"},
        capture_output=True, text=True, timeout=60, check=True).stdout
    services = re.split(r"^(?:version|volumes):", resolved.split("services:\n", 1)[1], flags=re.M)[0]
    blocks = re.split(r"^  (?=[\w-]+:$)", services, flags=re.M)
    published = [block.split(":", 1)[0] for block in blocks if re.search(r"^    ports:", block, re.M)]
    assert published == ["proxy"]  # web, worker and cron publish nothing, so any of them can scale
    assert "0.0.0.0:8088:3080/tcp" in resolved
    assert '"${BIND_ADDRESS:-0.0.0.0}:${PORT:-3080}:3080"' in COMPOSE  # 3080 unless PORT says otherwise


def test_compose_matches_the_compose_specification():
    checker = tool("check-jsonschema")
    result = subprocess.run([checker, "--builtin-schema", "vendor.compose-spec", str(ROOT / "compose.yaml")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_workflow_is_a_valid_actions_workflow():
    checker = tool("check-jsonschema")
    workflow = ROOT / ".github/workflows/ci.yml"
    result = subprocess.run([checker, "--builtin-schema", "vendor.github-workflows", str(workflow)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    text = workflow.read_text()
    assert "vars.REGISTRY" in text and ":latest" in text and ":${{ github.sha }}" in text
    assert "postgres:" in text and "redis:" in text and "bash .ci/run" in text


def test_dockerfile_is_clean_under_hadolint():
    hadolint = tool("hadolint")
    result = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_is_multi_stage_slim_non_root_and_runtime_only():
    stages = re.findall(r"^FROM (\S+)", DOCKERFILE, re.M)
    assert len(stages) >= 2
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.1[12]-slim", DOCKERFILE, re.M)
    user = re.findall(r"^USER (\S+)", DOCKERFILE, re.M)[-1]
    assert user.split(":")[0] not in {"0", "root"}
    assert "-r requirements.runtime.lock" in DOCKERFILE and "requirements.lock" not in DOCKERFILE.replace(
        "requirements.runtime.lock", "")
    assert 'ENTRYPOINT ["python", "-m", "webapp.serve.entrypoint"]' in DOCKERFILE and 'CMD ["web"]' in DOCKERFILE


def _pins(lock: str) -> dict[str, str]:
    return dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (ROOT / lock).read_text(), re.M))


def test_runtime_lock_has_no_test_tools_and_agrees_with_the_full_lock():
    runtime, full = _pins("requirements.runtime.lock"), _pins("requirements.lock")
    assert not {"pytest", "playwright"} & set(runtime)
    assert {name: version for name, version in runtime.items() if full.get(name) != version} == {}
    pyproject = (ROOT / "pyproject.toml").read_text()
    dependencies = pyproject.split("dependencies = [", 1)[1].split("]", 1)[0]
    wanted = {name.lower().replace("_", "-") for name in re.findall(r'"([A-Za-z0-9_.-]+)', dependencies)}
    assert wanted - {name.lower() for name in runtime} == set()


def test_dockerignore_keeps_secrets_and_the_virtualenv_out_of_the_image():
    ignore = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if not line.startswith("#")]
    assert ignore[0] == "*"  # deny by default, then allow what the image needs
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert allowed == {"requirements.runtime.lock", "webapp", "migrations", "templates", "static",
                       "wsgi.py", "worker.py"}


@pytest.fixture
def gunicorn_conf(monkeypatch):
    def load(**env):
        for name in ("GUNICORN_BIND", "PORT", "GUNICORN_WORKERS", "GUNICORN_THREADS", "GUNICORN_TIMEOUT",
                     "LOG_FORMAT"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        import webapp.serve.gunicorn_conf as module

        return importlib.reload(module)
    return load


def test_gunicorn_defaults_suit_the_container(gunicorn_conf):
    conf = gunicorn_conf()
    assert conf.bind == "0.0.0.0:3080" and conf.workers == 2 and conf.threads == 4
    assert conf.worker_class == "webapp.serve.gunicorn_worker.BalancedThreadWorker"
    assert conf.timeout == 30 and conf.accesslog == "-"
    assert conf.logger_class.__name__ == "JsonGunicornLogger"


def test_gunicorn_reads_its_settings_from_the_environment(gunicorn_conf):
    conf = gunicorn_conf(GUNICORN_BIND="127.0.0.1:9000", GUNICORN_WORKERS="7", GUNICORN_THREADS="1",
                         GUNICORN_TIMEOUT="90", LOG_FORMAT="text")
    assert conf.bind == "127.0.0.1:9000" and conf.workers == 7 and conf.timeout == 90
    assert conf.worker_class == "sync"
    assert conf.logger_class == "gunicorn.glogging.Logger"
    assert "request_id=%({x-request-id}o)s" in conf.access_log_format
    assert gunicorn_conf(PORT="8123").bind == "0.0.0.0:8123"
