"""What web and admin pages share: template filters and globals, badges, markdown, page-or-fragment rendering."""
