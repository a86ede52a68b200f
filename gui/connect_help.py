"""The connect dialog's help: short sentences for a person with a real org, and where the
step-by-step guide is. Words only, so the dialog module keeps to its layout."""

from __future__ import annotations

from pathlib import Path

from gui.icons import resources_dir

GUIDE = "docs/connecting.md"

WORKSPACE = ("A workspace is one pair of connected systems (one Salesforce org and its Apollo "
             "account) with its own settings and local cache. Most people need one.")

LOGIN_HOST = ("https://login.salesforce.com for a production org, https://test.salesforce.com "
              "for a sandbox org, or your My Domain address (https://yourcompany.my.salesforce"
              ".com) when your org requires it.")

METHOD_HELP = {
    "pkce": ("In Salesforce Setup → App Manager, create a connected app (or an external client "
             "app) with OAuth enabled, the scopes “Manage user data via APIs (api)” and "
             "“Perform requests at any time (refresh_token)”, PKCE required, and the callback "
             "URL typed above. Its Consumer Key goes here; no secret is needed."),
    "jwt": ("Create a certificate and its private key (the setup guide shows one command), "
            "upload the certificate to the connected app under “Use digital signatures”, "
            "pre-authorise the user through a permission set, and choose the private key "
            "file here."),
    "client_credentials": ("Enable the client credentials flow on the connected app and set "
                           "its “Run As” integration user; the Consumer Key and Secret go "
                           "here."),
    "password": "",
}

PERMISSIONS = ("The Salesforce user needs API access and read/edit on Lead and Contact email. "
               "Turn on field history tracking for Email on both objects: Concord then knows "
               "when each address changed.")

APOLLO_KEY = ("In Apollo: Settings → Integrations → API → API keys. Create a key with access to "
              "contacts (search, view, update) and paste it here.")


def guide_path() -> Path:
    """The setup guide beside the resources (in the source tree and the bundle)."""
    return resources_dir().parent / GUIDE


def guide_link() -> str:
    """Rich text linking to the guide."""
    return (f'<a href="{guide_path().as_uri()}">Step-by-step setup guide</a> '
            f"({GUIDE}): the connected app, sandboxes and My Domain, permissions, the "
            f"certificate, and the Apollo key.")
