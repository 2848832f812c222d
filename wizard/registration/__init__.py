"""The registration wizard, steps 1 to 5: the state machine (``flow``, pure), the registration
row behind the browser (``registrations``), the flow guard and step URLs (``steps``), step 4's QR
hand-off (``handoff``) and step 5's carrier check (``verification``, which makes the account).
Its pages are in ``views/`` (``register``: steps 2-3; ``verify``: steps 4-5 and the phone); step
1's form is on the login page (``wizard.accounts.views.login``)."""
