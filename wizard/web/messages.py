"""What each rejection code says to a person: the problem and what to do instead.

Pure modules (identity, passwords, the carrier gateway) raise or return stable codes; this is
the one place that turns a code into words, so wording and translation live together.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

_OTHER_METHODS = _l("請改用自然人憑證、行動自然人憑證或其他登入方式，或臨櫃辦理。")

MESSAGES: dict[str, object] = {
    # Step 1 and 2: national ID
    "id.empty": _l("請輸入身分證號"),
    "id.characters": _l("身分證號只能有英文字母與數字，請檢查是否輸入了其他符號或中文字"),
    "id.length": _l("身分證號應為 10 碼（1 個英文字母加 9 個數字），您輸入了 %(length)s 碼"),
    "id.first_letter": _l("身分證號第 1 碼應為英文字母，例如 A123456789"),
    "id.foreign_new": _l(
        "這是居留證號碼。行動電話認證限本國自然人使用，外國人（含大陸人）無法使用。"
        "請改用其他登入方式（如自然人憑證）或臨櫃辦理。"
    ),
    "id.foreign_old": _l(
        "這是舊式居留證號碼。行動電話認證限本國自然人使用，外國人（含大陸人）無法使用。"
        "請改用其他登入方式（如自然人憑證）或臨櫃辦理。"
    ),
    "id.second_digit": _l("身分證號第 2 碼應為 1 或 2"),
    "id.digits": _l("身分證號第 3 至 10 碼應為數字"),
    "id.checksum": _l("身分證號檢查碼不符，請逐碼確認是否輸入正確"),
    # Phone number
    "phone.empty": _l("請輸入手機門號"),
    "phone.characters": _l("手機門號只能有數字，例如 0912-345678"),
    "phone.prefix": _l("手機門號應以 09 開頭，例如 0912-345678（市話無法使用行動電話認證）"),
    "phone.length": _l("手機門號應為 10 碼數字（09 開頭），您輸入了 %(length)s 碼"),
    # NHI card
    "card.empty": _l("請輸入健保卡號"),
    "card.characters": _l("健保卡號只能有數字，請看健保卡正面右下方的 12 碼卡號"),
    "card.length": _l("健保卡號應為 12 碼數字，您輸入了 %(length)s 碼"),
    # Birth date
    "date.empty": _l("請輸入出生日期"),
    "date.format": _l("請以 年/月/日 輸入出生日期，例如 1980/01/01 或民國 69/01/01"),
    "date.invalid": _l("沒有 %(text)s 這一天，請檢查月份與日期"),
    "date.future": _l("出生日期必須是今天以前的日期"),
    "date.too_old": _l("出生日期不可早於 1900 年，請檢查年份（民國年請輸入如 69/01/01）"),
    # Name
    "name.empty": _l("請輸入姓名"),
    "name.control": _l("姓名含有看不見的控制字元，請重新輸入姓名（不要貼上）"),
    "name.characters": _l("姓名不可包含這些字元：%(chars)s"),
    "name.length": _l("姓名最多 %(max)s 個字"),
    # Carrier
    "carrier.empty": _l("請選擇電信業者"),
    # CAPTCHA
    "captcha.empty": _l("請輸入驗證碼"),
    "captcha.wrong": _l("驗證碼不正確，已換一組新的驗證碼，請重新輸入"),
    "captcha.expired": _l("驗證碼已逾時，已換一組新的驗證碼，請重新輸入"),
    # Passwords
    "password.empty": _l("請設定憑證密碼"),
    "password.too_short": _l("憑證密碼至少 %(min)s 個字元，您輸入了 %(length)s 個"),
    "password.too_long": _l("憑證密碼最多 %(max)s 個字元，您輸入了 %(length)s 個"),
    "password.control": _l("憑證密碼不可包含換行或控制字元"),
    "password.mismatch": _l("兩次輸入的憑證密碼不一致，請重新輸入"),
    "password.common": _l("這個密碼太常見，容易被猜中，請換一個（可用一句好記的話）"),
    "password.contains.national_id": _l("憑證密碼不可包含您的身分證號"),
    "password.contains.msisdn": _l("憑證密碼不可包含您的手機門號"),
    "password.contains.birth_date": _l("憑證密碼不可包含您的出生日期"),
    "password.contains.name": _l("憑證密碼不可包含您的姓名"),
    "password_confirm.empty": _l("請再輸入一次憑證密碼"),
    # Step 3
    "device.empty": _l("請選擇您正在使用的裝置"),
    "sim.empty": _l("請選擇平板電腦有無 SIM 卡（有 4G/5G 網路連線）"),
    # Carrier precheck (step 2)
    "precheck.mismatch": _l(
        "資料核對不符：請確認身分證號、手機門號、健保卡號、出生日期與姓名都是門號申辦人本人的資料，"
        "且與電信業者登記的相同"
    ),
    "precheck.wrong_carrier": _l(
        "這個門號不屬於您選擇的電信業者，請確認門號目前的電信業者（可看帳單或 SIM 卡）後重新選擇"
    ),
    "precheck.prepaid": _l(
        "預付卡門號無法使用行動電話認證，限月租型門號。請改用月租型門號，或改用其他登入方式。"
    ),
    "precheck.family": _l(
        "親子卡門號無法使用行動電話認證，限本人申辦的月租型門號。"
        "請改用本人月租型門號，或改用其他登入方式。"
    ),
    "precheck.enterprise": _l(
        "企業戶（公司申辦）的門號無法使用行動電話認證，限個人申辦的月租型門號。"
        "請改用個人門號，或改用其他登入方式。"
    ),
    "precheck.mvno": _l(
        "虛擬行動網路業者（MVNO）的門號無法使用行動電話認證。"
        "請改用中華電信、台灣大哥大、遠傳電信等業者的月租型門號，或改用其他登入方式。"
    ),
    "precheck.too_many": _l(
        "這個身分證號在一小時內核對太多次，為保護您的資料已暫停核對。請於一小時後再試，"
        "或改用其他登入方式。"
    ),
    "precheck.unavailable": _l("電信業者目前沒有回應，您輸入的資料都已保留，請稍後再按一次送出"),
    # Step 5: the carrier's check over its mobile network
    "network.wifi": _l(
        "您的手機正在使用 WiFi，電信業者無法辨識門號。請關閉 WiFi、開啟 4G/5G 行動數據後，"
        "再按一次「開始驗證」。"
    ),
    "network.roaming": _l(
        "您的手機正在漫遊（或連上國外網路），無法驗證。請在國內使用本人門號的 4G/5G 網路再試，"
        "或改用其他登入方式。"
    ),
    "network.vpn": _l(
        "您的手機開著 VPN 或「私密轉送」，電信業者無法辨識門號。"
        "請暫時關閉後，再按一次「開始驗證」。"
    ),
    "network.other_number": _l(
        "行動網路辨識到的不是您輸入的門號。雙卡手機請到「設定 > 行動網路 > 行動數據」"
        "把行動數據切換到這個門號的 SIM 卡，再按一次「開始驗證」。"
    ),
    "network.not_owner": _l(
        "電信業者確認這個門號目前不是以您的身分證號申辦，無法完成驗證。請使用本人申辦的門號重新申請。"
    ),
    "network.suspended": _l(
        "電信業者表示這個門號目前無法使用（可能已停話、掛失或欠費）。請聯絡您的電信業者處理後再申請，"
        "或改用其他登入方式。"
    ),
    "network.unavailable": _l(
        "電信業者目前沒有回應，驗證沒有完成，您的資料都已保留。請稍候再按一次「開始驗證」。"
    ),
    "network.too_many": _l(
        "驗證失敗次數過多，為保護您的資料，本次申請已停止。請重新申請行動認證。"
    ),
    # Step 5 on a phone that scanned a QR code: number matching (the outcome is stored with
    # the carrier's, so the desktop and the phone say it through the same "network." key)
    "network.number_mismatch": _l(
        "手機上選擇的數字與電腦畫面上 QR Code 旁的數字不同。為了安全，這個 QR Code 已失效。"
        "若是您本人申請，請在電腦上按「重新產生QRCode」再掃描；若是別人傳給您 QR Code 或連結、"
        "要您按驗證，請不要繼續，並聯絡勞保局（02-2396-1266）。"
    ),
    "match.missing": _l("請選擇電腦畫面上 QR Code 旁顯示的數字"),
    "terms.unchecked": _l("請先閱讀使用者約定條款，並勾選「我已閱讀並同意使用者約定條款」"),
}
for _kind in ("prepaid", "family", "enterprise", "mvno"):
    MESSAGES[f"network.{_kind}"] = MESSAGES[f"precheck.{_kind}"]  # type: ignore[index]


def message(code: str, params: Mapping[str, object] | None = None) -> str:
    """The words for ``code``, with its params filled in."""
    text = MESSAGES.get(code)
    if text is None:
        text = _l("輸入的資料有誤，請檢查")
    return gettext(str(text), **dict(params or {})) if params else str(text)


OTHER_METHODS = _OTHER_METHODS
