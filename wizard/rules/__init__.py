"""Pure rules, no Flask and no database: national IDs, phone numbers, 健保卡號, dates and
names (``identity``), the 憑證密碼 policy and its argon2id hash (``passwords``), the CAPTCHA
(``captcha``), and step 3's device guess from the User-Agent (``useragent``). Anything may import
these; they import nothing of the site, so they are tested as plain functions."""
