"""Billing Connector's HTML renderer: a self-contained, printable statement page (Jinja2)."""
