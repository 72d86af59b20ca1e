"""The conformance kit for Billing Connector plugins, in the spirit of the Singer SDK's
``get_tap_test_class``: one line in a plugin's test module generates the standard suite.

    from connector.testing import provider_test_class, renderer_test_class, sink_test_class

    TestMyProvider = provider_test_class(MyProvider, settings={"path": "data"})
    TestMySink = sink_test_class(MySink, settings={}, count_invoices=count_my_invoices)
    TestMyRenderer = renderer_test_class(MyRenderer)

The kit is also a pytest plugin (entry point ``pytest11: connector``) offering the
fixtures ``connector_samples``, ``connector_sink_context`` and ``connector_token_store``
for a plugin's own tests. See docs/plugins.md.
"""

from connector.testing.failures import ConformanceError
from connector.testing.provider import provider_test_class
from connector.testing.renderer import renderer_test_class
from connector.testing.samples import approved_documents, sample_documents
from connector.testing.sink import MemoryTokenStore, sink_test_class, stand_in_render

__all__ = [
    "ConformanceError",
    "MemoryTokenStore",
    "approved_documents",
    "provider_test_class",
    "renderer_test_class",
    "sample_documents",
    "sink_test_class",
    "stand_in_render",
]
