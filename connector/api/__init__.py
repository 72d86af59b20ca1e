"""The billing API (REST + OpenAPI) and the review page."""

from connector.api.app import create_app

__all__ = ["create_app"]
