"""The ceiling: a bare Flask app under the same gunicorn settings as the site."""

from flask import Flask, render_template_string

app = Flask(__name__)

_TEMPLATE = "<p>{{ status }}</p>"


@app.get("/plain")
def plain() -> str:
    return "ok"


@app.get("/template")
def template() -> str:
    return render_template_string(_TEMPLATE, status="等待手機掃描 QR Code")
