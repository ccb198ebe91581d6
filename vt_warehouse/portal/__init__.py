"""The organisations' portal: accounts with two factors, upload with the door's checks, each organisation's
own reports, and the worker that takes an upload into the warehouse."""
