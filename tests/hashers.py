from django.contrib.auth.hashers import Argon2PasswordHasher


class CheapArgon2PasswordHasher(Argon2PasswordHasher):
    """Still Argon2id, with parameters cheap enough for hundreds of logins in a test run."""

    time_cost = 1
    memory_cost = 1024
    parallelism = 1
