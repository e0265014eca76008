from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from logs.digests.keys import create_key_files


class Command(BaseCommand):
    help = (
        "Create an Ed25519 key pair for signing the chain's digests: the private key in FILE "
        "(readable by its owner only; point AUDITPORTAL_SIGNING_KEY at it) and the public key "
        "in FILE.pub (give it to auditors). Never overwrites a file."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="where to write the private key (PEM)")

    def handle(self, *args, file, **options):
        path = Path(file)
        if path.name in ("", ".", ".."):
            raise CommandError(f"{file!r} names no file to write the key to.")
        try:
            public, fingerprint = create_key_files(path)
        except FileExistsError as error:
            raise CommandError(f"{error.filename} exists: a key is never overwritten") from None
        except OSError as error:
            raise CommandError(f"cannot write {error.filename or path}: {error.strerror}") from None
        self.stdout.write(f"Private key: {path} (set AUDITPORTAL_SIGNING_KEY to this path)")
        self.stdout.write(f"Public key:  {public}")
        self.stdout.write(f"Fingerprint: {fingerprint}")
