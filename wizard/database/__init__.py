"""The database: the tables (``models``) and the engine with one session per request
(``db``). It imports nothing of the site but its models; the migrations and the demo data are
wired in by ``wizard.ops``."""
