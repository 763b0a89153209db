"""The demo: a sandbox, the local stack, live progress, the closing report (`command`)."""
