"""Helpers for plugin authors: what the built-in providers and ERP sinks share.

Part of the public plugin surface, beside :mod:`connector.contracts` and
:mod:`connector.hookspecs`; documented in docs/plugins.md ("The plugin kit"). Import the
modules, which are named for what they hold:

For providers that read export files (the bundled aws, azure and focus use them):

- :mod:`~connector.plugin_kit.files`: finding files, opening them gzip-aware, reading
  and checking a CSV or Parquet header (:class:`~connector.plugin_kit.files.Wording`
  holds an export's words for the messages);
- :mod:`~connector.plugin_kit.columns`: matching header names to the columns read,
  and a file's header as matched;
- :mod:`~connector.plugin_kit.charge_types`: a provider's charge types in FOCUS terms,
  an unknown one an Adjustment with a warning;
- :mod:`~connector.plugin_kit.file_formats`: what another known export looks like,
  cut-off files, Azure export manifests;
- :mod:`~connector.plugin_kit.scratch`: the scratch DuckDB, the aggregate built on it,
  DuckDB's errors as the plugin's, and file hashes for ``source_hash``;
- :mod:`~connector.plugin_kit.sql` and :mod:`~connector.plugin_kit.values`: SQL text
  for the scan, and value rules given in SQL and in Python;
- :mod:`~connector.plugin_kit.rows`: re-reading a file to name the bad line;
- :mod:`~connector.plugin_kit.settings`: settings validated, folders resolved;
- :mod:`~connector.plugin_kit.periods`: billing periods anchored on a day of the month.

For ERP sinks:

- :mod:`~connector.plugin_kit.sinks`: results, refusals, batches, pre-flight gaps,
  OAuth connection;
- :mod:`~connector.plugin_kit.invoice_lines`: statement lines as an ERP adds them up
  (minor units, tax split, totals).

For sinks and renderers alike:

- :mod:`~connector.plugin_kit.addresses`: free-form address lines read as street,
  city, region, postal code and ISO 3166 country.

The kit imports only :mod:`connector.contracts` and the pure :mod:`connector.domain`;
DuckDB is imported when a function needs it, so the core does not depend on it.
"""
