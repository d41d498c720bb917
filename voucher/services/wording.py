"""The Italian messages the services write for people to read: a check's outcome, a refused
row of a file, a refusal's detail. The services keep them in Italian (the API's `detail` and
the stored rows are Italian by contract); marked with N_, they are also in the English
catalogue, and the pages show them in the reader's language (voucher.web.wording).

A message with values is a template filled with %-formatting, never an f-string, so that
the page can find its template again:

    N_("Età %(age)s anni") % {"age": 80}
"""


def N_(message: str) -> str:
    """Mark an Italian message for the catalogue (pybabel's default `N_` keyword), unchanged."""
    return message
