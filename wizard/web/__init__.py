"""The web plumbing every area uses: full page or HTMX partial (``rendering``, ``follow``),
gzip and hashed static files (``compression``, ``assets``), security headers and log masking
(``security``), friendly error and outage pages (``errors``, ``outage``), the language
(``i18n``), template globals (``templating``), rate limits (``limits``), the forms and the
rejection messages (``forms``, ``messages``). It imports the rules and the database, never an
area."""
