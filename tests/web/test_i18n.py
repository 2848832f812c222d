"""zh-TW first, English complete (issue 5, section 2).

- Every string Babel extracts from wizard/ and templates/ (babel.cfg) has an English translation
  in translations/en/LC_MESSAGES/messages.po, and the compiled .mo says the same: a new
  untranslated string fails here.
- No Chinese text is left in a template outside a translation call (a short, documented list of
  exceptions).
- In English, steps 1-5 and the portal have lang="en" and no Chinese except the person's own
  data and the "中文" switch; errors keep what was typed; switching language keeps the step and
  the data on file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.accounts import login_as
from tests.helpers import DESKTOP_UA, ELIGIBLE, Desktop, Phone, WizardClient, errors_of, value_of
from tests.web.support import registration_row

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
MO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.mo"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "_l": None,
    "N_": None,
}
CJK = re.compile(
    r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0002fa1f]"
)

#: Chinese that may stay in templates outside translation calls, and why.
TEMPLATE_EXCEPTIONS = {
    # Data values (the stored COVID status) mapped to CSS classes, never shown.
    "templates/records/covid.html": [
        "'受理中': 'pending', '已核付': 'paid', '不予給付': 'refused'"
    ],
}


def _methods() -> list[tuple[str, object]]:
    """babel.cfg's extraction methods, read from the file (one source of truth)."""
    return [("**.py", "python"), ("**.html", "jinja2")]


def _extracted() -> set[str]:
    ids: set[str] = set()
    for folder in ("wizard", "templates"):
        for _name, _line, message, _comments, _context in extract_from_dir(
            str(ROOT / folder),
            method_map=_methods(),
            options_map={"**.html": {"extensions": "jinja2.ext.do"}},
            keywords=KEYWORDS,
        ):
            ids.add(message if isinstance(message, str) else message[0])
    ids.discard("")
    return ids


def test_babel_cfg_matches_the_extraction_used_here() -> None:
    text = (ROOT / "babel.cfg").read_text()
    assert "[python: **.py]" in text and "[jinja2: **.html]" in text


def test_every_extracted_string_has_an_english_translation() -> None:
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0]): m.string
        for m in catalog
        if m.id and not m.fuzzy
    }
    missing = []
    for msgid in sorted(_extracted()):
        string = translated.get(msgid)
        strings = [string] if isinstance(string, str) else list(string or [])
        if not strings or not all(s.strip() for s in strings):
            missing.append(msgid)
    assert not missing, "untranslated (run `make translations`, then translate):\n" + "\n".join(
        missing
    )


def test_english_translations_have_no_chinese_and_keep_their_placeholders() -> None:
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    for message in catalog:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        wanted = sorted(set(re.findall(r"%\(\w+\)s", ids[0])))
        for string in strings:
            assert not CJK.search(string), (ids[0], string)
            assert sorted(set(re.findall(r"%\(\w+\)s", string))) == wanted, (ids[0], string)
            assert string.count("<strong>") == ids[0].count("<strong>"), (ids[0], string)


def test_the_compiled_catalog_matches_the_po_file() -> None:
    def plain(value: object) -> object:
        return tuple(value) if isinstance(value, list | tuple) else value

    with PO.open("rb") as handle:
        po = {plain(m.id): plain(m.string) for m in read_po(handle, locale="en") if m.id}
    with MO.open("rb") as handle:
        mo = {plain(m.id): plain(m.string) for m in read_mo(handle) if m.id}
    assert mo == po, "translations/en/LC_MESSAGES/messages.mo is stale: run `make translations`"


def _template_leftovers(text: str) -> list[str]:
    text = re.sub(r"\{#.*?#\}", "", text, flags=re.S)
    text = re.sub(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", "", text, flags=re.S)
    text = re.sub(r"""_\(\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""", "_(", text, flags=re.S)
    # The language switch's own label is in the language it switches to.
    text = text.replace("'中文'", "")
    return [line.strip() for line in text.splitlines() if CJK.search(line)]


def test_templates_have_no_chinese_outside_translation_calls() -> None:
    found = {}
    for path in sorted((ROOT / "templates").rglob("*.html")):
        name = str(path.relative_to(ROOT))
        text = path.read_text(encoding="utf-8")
        for allowed in TEMPLATE_EXCEPTIONS.get(name, []):
            text = text.replace(allowed, "")
        leftovers = _template_leftovers(text)
        if leftovers:
            found[name] = leftovers
    assert not found, found


def test_the_scan_finds_chinese_outside_translation_calls() -> None:
    assert _template_leftovers("<p>{{ _('已翻譯') }}</p>") == []
    assert _template_leftovers("<p>沒有翻譯</p>")
    assert _template_leftovers('<img alt="沒有翻譯">')
    assert _template_leftovers("{{ field(f, hint='沒有翻譯') }}")


# --- pages in English ---------------------------------------------------------------------


def html(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def chinese_left(page: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """Chinese in ``page`` apart from the "中文" switch and ``allowed`` (the person's data)."""
    page = page.replace(">中文</a>", "></a>")
    for text in allowed:
        page = page.replace(text, "")
    return sorted({m.group() for m in re.finditer(r"\S*" + CJK.pattern + r"\S*", page)})


def assert_english(response: TestResponse, allowed: tuple[str, ...] = ()) -> None:
    assert response.status_code == 200, response.status_code
    page = html(response)
    assert '<html lang="en">' in page
    assert chinese_left(page, allowed) == []
    assert 'data-lang-switch="zh-TW"' in page and 'lang="zh-Hant-TW"' in page


def english(client: FlaskClient) -> None:
    response = client.get("/login?lang=en")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/login")


def test_chinese_is_the_default_whatever_the_browser_asks(client: FlaskClient) -> None:
    page = html(client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}))
    assert '<html lang="zh-Hant-TW">' in page
    assert "個人登入" in page
    assert 'data-lang-switch="en"' in page and ">English</a>" in page


def test_lang_parameter_sets_the_choice_and_returns_to_the_same_url(client: FlaskClient) -> None:
    response = client.get("/help/faq?lang=en")
    assert response.status_code == 303
    assert response.headers["Location"] == "/help/faq"
    with client.session_transaction() as session:
        assert session["lang"] == "en"
    page = html(client.get("/help/faq"))
    assert '<html lang="en">' in page and "Questions and answers" in page
    client.get("/help/faq?lang=zh-TW")
    assert '<html lang="zh-Hant-TW">' in html(client.get("/help/faq"))


def test_the_switch_keeps_other_query_arguments(client: FlaskClient) -> None:
    page = html(client.get("/login?reapply=1"))
    assert 'href="/login?reapply=1&amp;lang=en"' in page


def test_steps_1_to_4_in_english(app: Flask, wizard: WizardClient, client: FlaskClient) -> None:
    client.environ_base["HTTP_USER_AGENT"] = DESKTOP_UA
    english(client)
    assert_english(client.get("/login"))
    assert wizard.identify().status_code == 303
    personal = client.get("/register/personal")
    assert_english(personal)
    assert "Enter your personal details and mobile number" in html(personal)
    assert "Chunghwa Telecom" in html(personal)
    assert wizard.personal().status_code == 303
    # Back on step 2 with a draft on file: the person's name is their own data.
    assert_english(client.get("/register/personal"), allowed=(ELIGIBLE["name"],))
    assert_english(client.get("/register/device"))
    assert wizard.device("desktop").status_code == 303
    qr = client.get("/register/qr")
    assert_english(qr)
    assert "Scan the QR code with your phone" in html(qr)
    assert "Step 4 of 7" in html(qr)


def test_step_5_on_the_phone_in_english(app: Flask, wizard: WizardClient) -> None:
    wizard.client.environ_base["HTTP_USER_AGENT"] = DESKTOP_UA
    wizard.complete_steps_before("qr")
    path = Desktop(wizard).qr_path()
    phone = Phone(app)
    english(phone.client)
    phone.open(path)
    page = phone.page()
    assert_english(page)
    assert "Check the details and start verification" in html(page)
    assert "Chunghwa Telecom" in html(page)


def test_step_5_on_the_applying_phone_in_english(wizard: WizardClient) -> None:
    english(wizard.client)
    wizard.complete_steps_before("verify")
    page = wizard.get("/register/verify")
    assert_english(page)
    assert "Start verification" in html(page)


def test_step_1_login_form_in_english(app: Flask, client: FlaskClient) -> None:
    english(client)
    response = client.post("/login", data={"national_id": "A12345678"})
    # No CSRF token: refused, but in English.
    assert '<html lang="en">' in html(response)


def _unit_names(app: Flask, national_id: str) -> tuple[str, ...]:
    from sqlalchemy import select

    from wizard.database.models import InsuranceRecord

    with app.app_context():
        with app.extensions["db_sessionmaker"]() as db:
            return tuple(
                db.scalars(
                    select(InsuranceRecord.unit_name).where(
                        InsuranceRecord.national_id == national_id
                    )
                )
            )


def test_portal_in_english(app: Flask, client: FlaskClient) -> None:
    login_as(app, client, "A123456789")
    english(client)
    name = "王小明"
    assert_english(client.get("/portal"), allowed=(name,))
    records = client.get("/portal/records")
    units = tuple(sorted(set(_unit_names(app, "A123456789")), key=len, reverse=True))
    assert_english(records, allowed=(name, *units))
    page = html(records)
    assert "Your insurance records" in page
    assert re.search(r"\d{1,2} [A-Z][a-z]{2} \d{4}", page), "dates as 30 Nov 2026"
    assert "Labour Insurance (Labour)" in page
    assert_english(client.get("/portal/covid"), allowed=(name,))
    assert_english(client.get("/account/devices"), allowed=(name,))


def test_records_csv_and_pdf_headings_in_english(app: Flask, client: FlaskClient) -> None:
    login_as(app, client, "A123456789")
    english(client)
    csv_text = client.get("/portal/records.csv").get_data().decode("utf-8-sig")
    header = csv_text.splitlines()[0]
    assert header.startswith("Name,ID number,Insurance,Employer"), header
    assert not CJK.search(header)


def test_dates_in_chinese_stay_as_they_were(app: Flask, client: FlaskClient) -> None:
    login_as(app, client, "A123456789")
    page = html(client.get("/portal/records"))
    assert re.search(r"至 \d{4}/\d{2}/\d{2} 為止", page)


# --- what was typed and what is on file ----------------------------------------------------


def test_an_english_error_keeps_the_other_typed_values(wizard: WizardClient) -> None:
    english(wizard.client)
    assert wizard.identify().status_code == 303
    response = wizard.personal(msisdn="0212345678", nhi_card="0000 1234 5678", name="Wang Da-ming")
    assert response.status_code == 200
    assert '<html lang="en">' in html(response)
    errors = errors_of(response)
    assert any("starts with 09" in error for error in errors), errors
    assert value_of(response, "nhi_card") == "0000 1234 5678"
    assert value_of(response, "name") == "Wang Da-ming"
    assert value_of(response, "birth_date") == ELIGIBLE["birth_date"]
    assert chinese_left(html(response)) == []


def test_switching_language_mid_wizard_keeps_the_step_and_the_data(
    app: Flask, wizard: WizardClient
) -> None:
    wizard.complete_steps_before("device")
    before = registration_row(app)
    response = wizard.get("/register/device?lang=en")
    assert response.status_code == 303 and response.headers["Location"] == "/register/device"
    page = wizard.get("/register/device")
    assert '<html lang="en">' in html(page) and "Choose your device" in html(page)
    after = registration_row(app)
    assert (after.step, after.msisdn, after.name, after.carrier_id) == (
        before.step,
        before.msisdn,
        before.name,
        before.carrier_id,
    )
    back = wizard.get("/register/personal")
    assert value_of(back, "name") == ELIGIBLE["name"]
    assert value_of(back, "msisdn") == "0912-345678"
    # And back to Chinese: still step 3, nothing lost.
    wizard.get("/register/device?lang=zh-TW")
    assert "選擇您的裝置" in html(wizard.get("/register/device"))
    assert registration_row(app).step == before.step


def test_the_switch_on_step_2_posts_what_was_typed(app: Flask, wizard: WizardClient) -> None:
    """wizard.js posts the form with action=language: the boxes come back, nothing is stored,
    and as everywhere the passwords and the CAPTCHA answer are never sent back."""
    assert wizard.identify().status_code == 303
    page = wizard.get("/register/personal")
    assert "data-keeps-typing" in html(page)
    response = wizard.client.post(
        "/register/personal?lang=en",
        data={
            "csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html(page))[1],
            "action": "language",
            "carrier": "fet",
            "msisdn": "0933",
            "name": "王小明",
            "nhi_card": "",
            "birth_date": "69/01/01",
            "password": "half typed",
            "password_confirm": "",
            "captcha": "12",
        },
    )
    assert response.status_code == 200
    assert '<html lang="en">' in html(response)
    assert errors_of(response) == []
    assert value_of(response, "msisdn") == "0933"
    assert value_of(response, "birth_date") == "69/01/01"
    assert value_of(response, "password") == ""
    assert value_of(response, "captcha") == ""
    assert "half typed" not in html(response)
    row = registration_row(app)
    assert row.msisdn is None and row.name is None
    assert chinese_left(html(response), allowed=("王小明",)) == []


def test_the_choice_survives_starting_logging_in_and_out(app: Flask, wizard: WizardClient) -> None:
    english(wizard.client)
    wizard.identify()  # registrations.start() clears the session
    with wizard.client.session_transaction() as session:
        assert session["lang"] == "en"
    login_as(app, wizard.client, "A123456789")
    assert '<html lang="en">' in html(wizard.client.get("/portal"))


@pytest.mark.parametrize(
    "path", ["/help/manual", "/help/tutorial", "/help/faq", "/help/guide", "/help/terms"]
)
def test_help_pages_in_english(client: FlaskClient, path: str) -> None:
    english(client)
    assert_english(client.get(path))


def test_template_translations_are_bound_once_per_render(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each ``_()`` in a template is a lookup in the catalogue bound for that render
    (wizard/web/i18n.py), not Flask-Babel's search for it through the request context."""
    import flask_babel

    looked_up = []
    real = flask_babel.Domain.get_translations

    def counting(self: flask_babel.Domain) -> object:
        looked_up.append(1)
        return real(self)

    monkeypatch.setattr(flask_babel.Domain, "get_translations", counting)
    page = client.get("/login").get_data(as_text=True)
    assert "個人登入" in page or "身分證" in page
    translated_here = len(re.findall(r"<(?:label|button|h1|h2|p|a)\b", page))
    assert translated_here > 10
    # 43 when each _() looked the catalogue up; what is left: the macros (imported without
    # the render's context) and the forms' lazy labels.
    assert len(looked_up) <= 12, len(looked_up)


def test_bound_template_gettext_keeps_newstyle_meaning(app: Flask) -> None:
    """Placeholders are filled and escaped, the result is Markup, ``%%`` is a percent sign,
    and English is English: what Jinja's newstyle gettext promises."""
    from flask import render_template_string, session

    source = (
        '{{ _("身分證號") }}|{{ _("%(who)s 好", who="<b>") }}|{{ _("100%%") }}|'
        '{{ ngettext("%(num)s 年", "%(num)s 年", 3) }}'
    )
    with app.test_request_context("/login"):
        zh = render_template_string(source)
    with app.test_request_context("/login"):
        session["lang"] = "en"
        en = render_template_string(source)
    assert zh == "身分證號|&lt;b&gt; 好|100%|3 年"
    assert en.split("|")[0] == "ID number"
    assert en.split("|")[1:] == ["&lt;b&gt; 好", "100%", en.split("|")[3]]
    assert en.split("|")[3].startswith("3 ")
    # ``_`` is that same bound gettext, not the i18n extension's alias that looks it up.
    with app.test_request_context("/login"):
        assert render_template_string("{{ _ is sameas(gettext) }}") == "True"
