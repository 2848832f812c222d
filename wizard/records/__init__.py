"""The person's insurance records: the history and its filters and totals (``records``), the
PDF/CSV documents with their verification codes (``documents``), demo histories (``demo``),
``flask records import`` (``cli``) and the portal's pages (``views``)."""
