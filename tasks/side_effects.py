"""Run one side effect exactly once: lock its row, act, record, commit; retry what is transient."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage

from celery import Task
from flask import current_app

from shop.extensions import db, utcnow
from shop.notifications import mailer
from shop.orders import side_effects
from shop.orders.models import SideEffect
from shop.orders.side_effect_state import SideEffectKind, SideEffectStatus

log = logging.getLogger(__name__)


class TransientError(Exception):
    """Worth trying again later: a server down, slow, or busy."""


class PermanentError(Exception):
    """Trying again will not help: staff must look."""


# The action does the outside work and returns (reference, timeline message).
Action = Callable[[SideEffect], tuple[str | None, str]]


def perform(task: Task, effect_id: int, kind: SideEffectKind, action: Action) -> str:
    effect = side_effects.lock(effect_id)
    if effect is None or effect.kind != kind:
        db.session.rollback()
        log.error("%s %s: no such side effect; not retried", kind, effect_id)
        return "missing"
    if effect.status != SideEffectStatus.PENDING:
        db.session.rollback()
        return effect.status  # done already (or failed/held): a duplicate delivery is a no-op
    number = side_effects.subject(effect)
    try:
        reference, message = action(effect)
    except TransientError as exc:
        retry_in = _retry_delay(effect.attempts + 1)
        side_effects.note_failure(effect, str(exc), retry_in=retry_in)
        db.session.commit()
        log.warning("%s: %s attempt %s failed: %s", number, kind, effect.attempts, exc)
        if retry_in is not None and not task.app.conf.task_always_eager:
            # In-process (no broker) there is no one to wait: the sweep sends it again.
            # SIDE_EFFECT_MAX_ATTEMPTS decides when to stop, so the tasks are declared with
            # max_retries=None (retry(max_retries=None) would mean Celery's default, 3).
            raise task.retry(countdown=retry_in, exc=exc) from exc
        return "retrying" if retry_in is not None else "failed"
    except PermanentError as exc:
        side_effects.note_failure(effect, str(exc), retry_in=None)
        db.session.commit()
        return "failed"
    except Exception as exc:  # a bug: record it for staff, do not retry blindly
        db.session.rollback()
        effect = side_effects.lock(effect_id)
        assert effect is not None
        if effect.status != SideEffectStatus.PENDING:
            db.session.rollback()  # another worker finished it meanwhile
            log.exception("%s: %s crashed", number, kind)
            return str(effect.status)
        side_effects.note_failure(effect, f"{type(exc).__name__}: {exc}", retry_in=None)
        db.session.commit()
        log.exception("%s: %s crashed", number, kind)
        return "failed"
    side_effects.mark_done(effect, reference, message)
    db.session.commit()
    log.info("%s: %s done (%s)", number, kind, reference)
    return "done"


# A message side effect in two steps: build it (reads only) with its Message-ID, returning
# the message and the timeline's words; then the shop sends it.
Build = Callable[[SideEffect, str], tuple[EmailMessage, str]]


def perform_recorded(task: Task, effect_id: int, kind: SideEffectKind,
                     plan: Callable[[SideEffect], str], build: Build) -> str:
    """Send a message once, writing the attempt down first (the receipt's path).

    The attempt's Message-ID (`plan`) and until when it may run are committed *before*
    the mail server is contacted, and no row is held while it works. A worker killed
    after the server accepted the message but before its "done" was committed leaves
    that trace: once the attempt's time is up, the next run asks the mail log
    (`mailer.was_accepted`) and records the message as sent without sending it again.
    When no log can say, it sends again under the same Message-ID (at least once; see
    the README). A transient failure keeps the Message-ID too (the server may have taken
    the message before the answer was lost), so its retry does the same. A run that
    finds an attempt still in its time waits for it to end.
    """
    effect = side_effects.lock(effect_id)
    if effect is None or effect.kind != kind:
        db.session.rollback()
        log.error("%s %s: no such side effect; not retried", kind, effect_id)
        return "missing"
    if effect.status != SideEffectStatus.PENDING:
        db.session.rollback()
        return effect.status
    now = utcnow()
    if effect.attempt_until is not None and effect.attempt_until > now:
        wait = (effect.attempt_until - now).total_seconds()
        db.session.rollback()
        if not task.app.conf.task_always_eager:
            raise task.retry(countdown=wait + 0.5)
        return "in flight"  # in-process: the sweep looks again later
    number = side_effects.subject(effect)
    message_id = effect.attempt_ref
    if message_id is not None:
        accepted = mailer.was_accepted(message_id)
        log.warning("%s: %s %s did not end known; the mail log says %s", number, kind,
                    message_id, {True: "accepted", False: "not accepted", None: "nothing"}
                    [accepted])
        if accepted:
            _end_attempt(effect)
            side_effects.mark_done(effect, message_id, f"{side_effects.describe(effect)} "
                                   "found accepted in the mail server's log after an "
                                   "attempt that did not end; not sent again")
            db.session.commit()
            return "done"
    else:
        message_id = plan(effect)
    effect.attempt_ref = message_id
    effect.attempt_until = now + timedelta(seconds=_attempt_time())
    db.session.commit()  # the attempt is written down before the mail server hears of it
    try:
        message, done = build(effect, message_id)
        db.session.commit()  # end the read: nothing is held while the mail server works
        send_mail(message)
    except (TransientError, PermanentError) as exc:
        # A transient failure may come after the server took the message (a "250" lost to
        # a timeout): its Message-ID is kept, so the retry asks the log and resends under it.
        effect = _relock(effect_id, keep_ref=isinstance(exc, TransientError))
        if effect is None:
            return "no longer pending"
        retry_in = _retry_delay(effect.attempts + 1) if isinstance(exc, TransientError) else None
        side_effects.note_failure(effect, str(exc), retry_in=retry_in)
        db.session.commit()
        log.warning("%s: %s attempt %s failed: %s", number, kind, effect.attempts, exc)
        if retry_in is not None and not task.app.conf.task_always_eager:
            raise task.retry(countdown=retry_in, exc=exc) from exc
        return "retrying" if retry_in is not None else "failed"
    except Exception as exc:  # a bug: record it for staff, do not retry blindly
        db.session.rollback()
        log.exception("%s: %s crashed", number, kind)
        effect = _relock(effect_id)
        if effect is None:
            return "no longer pending"
        side_effects.note_failure(effect, f"{type(exc).__name__}: {exc}", retry_in=None)
        db.session.commit()
        return "failed"
    effect = _relock(effect_id)
    if effect is None:
        return "no longer pending"
    side_effects.mark_done(effect, message_id, done)
    db.session.commit()
    log.info("%s: %s done (%s)", number, kind, message_id)
    return "done"


def _relock(effect_id: int, *, keep_ref: bool = False) -> SideEffect | None:
    """The row again after an attempt, its attempt ended; None (committed) when it is no
    longer pending (a refund cancelled it meanwhile: the message still went out)."""
    effect = side_effects.lock(effect_id)
    assert effect is not None
    ref = effect.attempt_ref
    _end_attempt(effect)
    if keep_ref:
        effect.attempt_ref = ref
    if effect.status != SideEffectStatus.PENDING:
        db.session.commit()
        return None
    return effect


def _end_attempt(effect: SideEffect) -> None:
    effect.attempt_ref = None
    effect.attempt_until = None


def _attempt_time() -> float:
    """Seconds an attempt may take: connecting, sending and quitting, each within
    MAIL_TIMEOUT, and a margin; after that it is taken to have been interrupted."""
    return 3 * float(current_app.config["MAIL_TIMEOUT"]) + 2


def _retry_delay(attempt: int) -> float | None:
    """Exponential backoff with jitter; None once the attempts are used up."""
    config = current_app.config
    if attempt >= config["SIDE_EFFECT_MAX_ATTEMPTS"]:
        return None
    # Celery's get_exponential_backoff_interval takes whole seconds only; tests use less.
    ceiling = min(
        config["SIDE_EFFECT_BACKOFF_MAX"], config["SIDE_EFFECT_BACKOFF"] * 2 ** (attempt - 1)
    )
    return random.uniform(ceiling / 2, ceiling)


def send_mail(message: EmailMessage) -> str:
    """Send through the shop's mailer; a refusal becomes a transient or permanent failure."""
    try:
        return mailer.send(message)
    except mailer.MailError as exc:
        raise (TransientError if exc.transient else PermanentError)(str(exc)) from exc
