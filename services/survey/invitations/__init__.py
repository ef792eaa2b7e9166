"""Invitations: personal links, QR codes, printable sheets and tracking (智能邀评)."""
