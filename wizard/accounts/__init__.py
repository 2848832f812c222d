"""Accounts and their devices, steps 6-7 and after: accounts made from verified registrations,
the four-field check and its lockout (``accounts``), device bindings and login challenges
(``devices``), logged-in sessions and their timeouts (``auth``). Pages in ``views/``: the login
page with step 1 (``login``), binding, notice, login, logout, devices, "not me" (``account``)."""
