"""Send an email over SMTP (with timeouts), or to the console when no server is set.

The standard library's smtplib is used directly because Flask-Mail opens SMTP
connections without a timeout, and a hung mail server must not hang a worker.
"""

from __future__ import annotations

import logging
import re
import smtplib
import sys
from email.message import EmailMessage
from email.utils import formataddr, formatdate, getaddresses, make_msgid
from pathlib import Path

import requests
from flask import current_app

from shop.text import clean_line, mask_email

log = logging.getLogger(__name__)


class MailError(Exception):
    """The message was not accepted."""

    transient = True


class MailRejected(MailError):
    """The server refused it for good (a 5xx answer): retrying will not help."""

    transient = False


def build_message(
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    message_id: str | None = None,
    attachments: list[tuple[str, str, bytes]] | None = None,
    shop_message: str | None = None,
) -> EmailMessage:
    """A multipart message from the charity; attachments are (filename, mimetype, bytes).

    `shop_message` names the kind of message in an `X-Shop-Message` header (stable: mail
    filters and tests tell the donor's messages apart by it, e.g. "refund").
    """
    config = current_app.config
    message = EmailMessage()
    message["From"] = formataddr((config["ORG_NAME"], config["MAIL_DEFAULT_SENDER"]))
    # Headers are one line: a name stored before the shop cleaned its input must not
    # make a message that can never be sent.
    message["To"] = clean_line(to) or ""
    message["Subject"] = clean_line(subject) or ""
    message["Date"] = formatdate(localtime=False)
    domain = config["MAIL_DEFAULT_SENDER"].rpartition("@")[2] or "localhost"
    message["Message-ID"] = message_id or make_msgid(domain=domain)
    if shop_message is not None:
        message["X-Shop-Message"] = shop_message
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for filename, mimetype, content in attachments or []:
        maintype, _, subtype = mimetype.partition("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message


def send(message: EmailMessage) -> str:
    """Deliver the message; returns its Message-ID. Raises MailError or MailRejected."""
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        _to_console(message)
        return str(message["Message-ID"])
    host, port, timeout = config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_TIMEOUT"]
    try:
        smtp: smtplib.SMTP
        if config["MAIL_USE_SSL"]:
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout)
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        with smtp:
            if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            refused = smtp.send_message(message)
    except smtplib.SMTPResponseException as exc:
        detail = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
        if 500 <= exc.smtp_code < 600:
            raise MailRejected(detail) from exc
        raise MailError(detail) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        detail = f"recipients refused: {exc.recipients!r}"
        if codes and all(500 <= code < 600 for code in codes):
            raise MailRejected(detail) from exc
        raise MailError(detail) from exc
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        raise MailError(f"{type(exc).__name__}: {exc}") from exc
    if refused:
        raise MailError(f"some recipients refused: {refused!r}")
    log.info("mail %s to %s sent: %s", message["Message-ID"], masked_recipients(message),
             message["Subject"])
    return str(message["Message-ID"])


def was_accepted(message_id: str) -> bool | None:
    """Did the mail server accept `message_id`? Asks MAIL_LOG_URL (`GET ?message_id=`,
    answering `{"accepted": bool}`); None when there is no log, or it cannot say now."""
    url = current_app.config.get("MAIL_LOG_URL")
    if not url:
        return None
    try:
        response = requests.get(url, params={"message_id": message_id},
                                timeout=current_app.config["MAIL_TIMEOUT"])
        response.raise_for_status()
        accepted = response.json().get("accepted")
    except (requests.RequestException, ValueError, AttributeError) as exc:
        log.warning("mail log could not say whether %s was accepted: %s", message_id, exc)
        return None
    return accepted if isinstance(accepted, bool) else None


def _to_console(message: EmailMessage) -> None:
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    attachments = [str(part.get_filename()) for part in message.iter_attachments()]
    saved = _save_attachments(message, current_app.config.get("MAIL_SAVE_DIR"))
    sys.stdout.write(
        f"\n----- mail (console) -----\nTo: {message['To']}\nSubject: {message['Subject']}\n"
        f"Message-ID: {message['Message-ID']}\n"
        + (f"X-Shop-Message: {message['X-Shop-Message']}\n" if message["X-Shop-Message"] else "")
        + (f"Attachments: {', '.join(attachments)}\n" if attachments else "")
        + "".join(f"Attachment written to {path}\n" for path in saved)
        + f"\n{text}\n----- end of mail -----\n"
    )
    sys.stdout.flush()
    log.info("mail %s to %s written to the console", message["Message-ID"],
             masked_recipients(message))


def masked_recipients(message: EmailMessage) -> str:
    """Who a message goes to, as the logs show it: d***@example.org, never the address."""
    pairs = getaddresses([str(value) for value in message.get_all("To", [])])
    return ", ".join(mask_email(address) for _, address in pairs) or "(nobody)"


def _save_attachments(message: EmailMessage, folder: str | None) -> list[Path]:
    """Write the message's attachments to `folder/<message id>/`, so a console run's PDFs
    can be opened; the paths written. Nothing when `folder` is unset."""
    if not folder:
        return []
    # The Message-ID's local part names the folder: a resent receipt keeps its first PDF.
    local = str(message["Message-ID"] or "message").strip("<>").partition("@")[0]
    target = Path(folder) / (re.sub(r"[^A-Za-z0-9._-]", "_", local) or "message")
    saved = []
    for part in message.iter_attachments():
        name = Path(str(part.get_filename() or "attachment")).name  # never a path of its own
        content = part.get_payload(decode=True)
        if not isinstance(content, bytes):
            continue
        target.mkdir(parents=True, exist_ok=True)
        path = target / name
        path.write_bytes(content)
        saved.append(path)
    return saved
