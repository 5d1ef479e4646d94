"""An SMTP server for the HTTP tests that requires authentication (AUTH PLAIN or
LOGIN, without TLS, on loopback only) and keeps every accepted message in a Maildir.

    python3 smtp_auth_sink.py HOST PORT MAILDIR USER PASSWORD

aiosmtpd's command line cannot require AUTH, hence this file. Runs until killed.
"""

import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword


def main():
    host, port, maildir, user, password = sys.argv[1:6]

    def authenticator(server, session, envelope, mechanism, auth_data):
        accepted = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        # handled=False: aiosmtpd answers a refusal with 535 itself (its default,
        # handled=True, would leave the client waiting for an answer).
        return AuthResult(success=accepted, handled=False)

    controller = Controller(
        Mailbox(maildir),
        hostname=host,
        port=int(port),
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
