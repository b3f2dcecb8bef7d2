#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# pidns-run.sh PROGRAM [ARG]...: runs PROGRAM as PID 1 of a new PID namespace, like
# `unshare --pid --fork --kill-child -- PROGRAM`. Exits 77 (skipped) when that is not
# allowed, except under CI=true, where it fails.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
require_privilege
exec unshare --pid --fork --kill-child -- "$@"
