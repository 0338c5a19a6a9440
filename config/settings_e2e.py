"""Settings of the browser tests' server: the normal settings plus axe-core as a static file.

Why a file served by the app: the tests inject /static/axe.min.js with a script tag, which the
Content-Security-Policy ("script-src 'self'") allows as it is; nothing in the test bypasses CSP.
axe-core comes from npm (package.json pins it; scripts/test.sh runs `npm ci`).
"""

from config.settings import *  # noqa: F403 - the normal settings, extended below
from config.settings import BASE_DIR, STATICFILES_DIRS

AXE_DIR = BASE_DIR / "node_modules" / "axe-core"
STATICFILES_DIRS = [*STATICFILES_DIRS, AXE_DIR]
