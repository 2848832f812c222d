"""The accounts' pages: ``login`` (the login page, step 1, other methods) and ``account``
(bind, 使用須知, four-field login, logout, devices, "not me", the simulator outbox)."""
