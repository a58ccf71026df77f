"""The service's web pages: templates, their data, and the static files they load (all local)."""
