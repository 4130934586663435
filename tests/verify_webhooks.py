"""Verifies recorded webhook pushes with the standardwebhooks library.

Usage: verify_webhooks.py SECRET CASES.json, where CASES.json is a list of
{"body": str, "headers": {...}}. Exits non-zero on the first push that fails.
"""
import json
import sys

from standardwebhooks.webhooks import Webhook


def main() -> int:
    secret, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as handle:
        cases = json.load(handle)
    hook = Webhook(secret)
    for index, case in enumerate(cases):
        try:
            hook.verify(case["body"], case["headers"])
        except Exception as error:  # the library raises its own verification errors
            print(f"push {index} ({case['headers'].get('webhook-id')}) failed: {error}")
            return 1
    print(f"{len(cases)} pushes verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
