"""The finetune entry point of the example root: reports how it was started and exits."""
import os
import sys

import alltalk_launch

print(f"[AllTalk example] finetune with Python {sys.version.split()[0]} from {sys.prefix}")
print(f"[AllTalk example] TRAINER_TELEMETRY={os.environ.get('TRAINER_TELEMETRY')}")
print(f"[AllTalk example] plan: {alltalk_launch.plan()}")
