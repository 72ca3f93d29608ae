"""The portal: server-rendered pages where developers deploy, watch workflows and run golden paths."""
