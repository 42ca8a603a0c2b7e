import sys

from platform_lib.cli import main

sys.exit(main())
