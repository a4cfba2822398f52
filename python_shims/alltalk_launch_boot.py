"""Runs inside every interpreter that alltalk-launch starts, after `site` and before user code.

It must stay cheap: no imports beyond `sys` and the embedded `alltalk_launch` module.
"""
import sys

import alltalk_launch

_plan = alltalk_launch.plan()

# Children that the app starts through sys.executable (subprocess, os.execv, multiprocessing's
# spawn) must come back through the launcher so that they get the same preparation as this
# process. The launcher recognises such a child by the ALLTALK_LAUNCH_CHILD variable it set in
# the environment and then behaves exactly like the env's python. sys._base_executable keeps
# pointing at the env's real interpreter.
if _plan.get("launcher"):
    sys.executable = _plan["launcher"]

del _plan
