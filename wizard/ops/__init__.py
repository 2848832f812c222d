"""Operations, at the edge: health checks, request logs and trusted proxies (``operations``),
migrations and ``flask db`` (``migrations``), the manual's carriers and the demo people
(``seed``), the operator commands (``cli``). Nothing in the site imports this package but
``create_app``."""
