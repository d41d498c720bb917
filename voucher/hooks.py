"""Request hooks that every view needs, lean ones too (voucher.boundary.VoucherFlask)."""


def every_request(hook):
    """Mark a before- or after-request hook that lean views need too: who is calling, the
    security headers, the access log, the background threads' start."""
    hook.every_request = True
    return hook
