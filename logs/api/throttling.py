"""Request rates (REST_FRAMEWORK's throttles) counted before permissions are checked.

DRF checks permissions first and rates after, so a request it refuses never counts. Every
endpoint here refuses an anonymous caller (401), so the anonymous rate would never apply and a
client could probe the API without limit; counting first makes it apply to exactly them.
"""


class RatesBeforePermissions:
    """Mixed into an APIView: its throttles run before its permission check, once."""

    def check_permissions(self, request):
        self.check_throttles(request)
        super().check_permissions(request)

    def check_throttles(self, request):
        # APIView.initial calls this again after check_permissions; count a request once.
        if getattr(request, "_rates_checked", False):
            return
        request._rates_checked = True
        super().check_throttles(request)
