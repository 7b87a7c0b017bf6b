"""A real SMTP server for the mail tests (aiosmtpd).

    python3 server.py --port PORT --dir DIR [--user USER --password PASSWORD]

Saves every message it accepts as DIR/<n>.eml (the raw bytes) and DIR/<n>.json (envelope and
the headers and body as Python's email parser reads them), written aside and renamed so a reader
never sees half a file. Refuses recipients at the domain `rejected.example` with 550 (a
permanent failure). With --user, AUTH is required (over plain text: this is a test). Prints
`ready` once it listens; stops on SIGTERM or when its standard input closes.
"""

import argparse
import asyncio
import email
import email.policy
import itertools
import json
import logging
import os
import signal
import sys
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

REJECTED_DOMAIN = "@rejected.example"


class Saver:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().endswith(REJECTED_DOMAIN):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "login": session.auth_data,
            "from": str(message["From"]),
            "to": str(message["To"]),
            "subject": str(message["Subject"]),
            "message_id": str(message["Message-ID"]),
            "content_type": message.get_content_type(),
            "charset": message.get_content_charset(),
            "body": body.get_content() if body is not None else None,
        }
        for suffix, data in ((".eml", raw), (".json", json.dumps(record).encode())):
            path = os.path.join(self.directory, f"{n:06}{suffix}")
            with open(path + ".tmp", "wb") as f:
                f.write(data)
            os.rename(path + ".tmp", path)
        return "250 Message accepted"


def authenticator_for(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        login = getattr(auth_data, "login", None)
        secret = getattr(auth_data, "password", None)
        ok = login == user.encode() and secret == password.encode()
        return AuthResult(success=ok, handled=False, auth_data=user if ok else None)

    return authenticate


def main():
    # Plain-text AUTH is the point of the test; say nothing about it.
    warnings.filterwarnings("ignore")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args()

    options = {}
    if args.user:
        options = dict(
            auth_required=True,
            auth_require_tls=False,
            authenticator=authenticator_for(args.user, args.password or ""),
        )
    controller = Controller(
        Saver(args.dir), hostname="127.0.0.1", port=args.port, **options
    )
    controller.start()
    print("ready", flush=True)

    stop = asyncio.new_event_loop()
    done = stop.create_future()
    stop.add_signal_handler(signal.SIGTERM, lambda: done.done() or done.set_result(None))
    stop.add_reader(sys.stdin, lambda: sys.stdin.read(1) or (done.done() or done.set_result(None)))
    stop.run_until_complete(done)
    controller.stop()


if __name__ == "__main__":
    main()
