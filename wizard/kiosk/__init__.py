"""Counter kiosks: which terminals are kiosks, 結束使用's wipe and ``flask kiosk`` (``kiosk``), and
the wipe's pages (``views``)."""
