"""Run one side effect exactly once: lock its row, act, record, commit; retry what is transient."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from email.message import EmailMessage

from celery import Task
from flask import current_app

from shop.extensions import db
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
