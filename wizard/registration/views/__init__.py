"""The registration's pages: ``register`` (steps 2-3, the CAPTCHA), ``verify`` (step 4's QR,
the phone's side, step 5, done)."""
