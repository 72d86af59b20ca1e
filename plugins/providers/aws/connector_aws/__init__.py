"""AWS provider plugin for Billing Connector: legacy Cost and Usage Reports (CUR)."""

from connector_aws.cur import AwsCurProvider
from connector_aws.settings import AwsSettings

__all__ = ["AwsCurProvider", "AwsSettings"]
