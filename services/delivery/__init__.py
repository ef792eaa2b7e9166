"""The delivery worker (issue 17): events from `webhooks.events` to every subscribed receiver, signed."""
