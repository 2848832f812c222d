"""Institutions check a person's insurance online, with the person's consent, instead of asking
for paper; the person sees every check. ``codes`` (the share code, pure), ``purposes`` (what a
check may be for), ``facts`` (the minimised answer from the records), ``shares`` (the person's
投保證明分享碼), ``staff`` (institutions' staff: password + TOTP, lockout, sessions, API keys),
``checks`` (a share-code check, an agency query, a document verification: each recorded and
announced), ``receipt`` (the check's PDF), ``cli`` (``flask institution``). Pages in ``views/``:
``public`` (文件驗證), ``citizen`` (the portal's shares and 誰查看了我的資料), ``staff`` (the
institution side), ``api`` (``/api/v1``)."""
