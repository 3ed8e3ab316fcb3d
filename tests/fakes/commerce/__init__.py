"""Local HTTP servers shaped like the commerce systems' APIs, for the clients' contract tests.

One module per system (`shopify_server`, `magento_server`, `commercetools_server`, ...), each with
a pytest fixture of the same name; the shared plumbing lives in `local_server` and `json_server`.
"""
