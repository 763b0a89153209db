"""Tests of the webhook service (issue 4)."""
