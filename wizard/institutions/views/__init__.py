"""The institutions' pages: ``public`` (文件驗證, anyone), ``citizen`` (投保證明分享 and
誰查看了我的資料 in the portal), ``staff`` (``/institution``: login, check, agency query,
receipts), ``api`` (``/api/v1`` for institutions' own systems, API keys)."""
