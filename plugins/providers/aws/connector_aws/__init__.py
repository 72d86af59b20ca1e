"""AWS provider plugin for Billing Connector: Cost and Usage Reports (legacy CUR, CUR 2.0)."""

from connector_aws.cur import AwsCurProvider
from connector_aws.settings import AwsSettings

__all__ = ["AwsCurProvider", "AwsSettings"]
