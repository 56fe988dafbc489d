# %% [markdown]
# # Account: balance and models
#
# `client.account.whoami()` calls B3n's account endpoint (`GET /api/user/self` at the origin, not
# under `/v1`). It does **not** take the `sk-` key: it needs your *system access token* (B3n
# console: Account -> Personal center -> Account options -> System token) and your numeric user id
# (sent as `New-Api-User`), from `access_token=` / `user_id=` or `B3N_ACCESS_TOKEN` / `B3N_USER_ID`.
# Quota units are converted to US dollars (500 000 units = $1 by default, `quota_per_usd=` to
# change it). `client.models.list()` lists the models your key can use, with the catalog's
# capabilities attached to the ones it knows.

# %%
from _setup import connect, heading

b3n = connect()
base_url, api_key = b3n.base_url, b3n.api_key

# %%
from langchain_b3n import B3nClient, B3nConfigurationError

client = B3nClient(api_key=api_key, base_url=base_url, access_token=b3n.access_token, user_id=b3n.user_id)

# %% [markdown]
# ## Who am I, and what is left?

# %%
heading("Account")
try:
    me = client.account.whoami()
except B3nConfigurationError:  # live, without B3N_ACCESS_TOKEN / B3N_USER_ID
    print("skipped: set B3N_ACCESS_TOKEN (your system access token) and B3N_USER_ID to see your balance")
else:
    print(f"user:     {me.username} (id {me.id}, group {me.group})")
    print(f"balance:  ${me.balance_usd:,.2f} ({me.quota:,} quota units)")
    print(f"used:     ${me.used_usd:,.2f} (requests so far: {me.request_count:,})")
    print("secrets in the result:", "access_token" in me.model_dump_json())

# %% [markdown]
# ## The sk- key alone is not enough for the account endpoint

# %%
from langchain_b3n import B3nAuthenticationError

heading("Without the system access token")
try:
    B3nClient(api_key=api_key, base_url=base_url).account.whoami()
    print("(B3N_ACCESS_TOKEN and B3N_USER_ID are set, so the client found them in the environment)")
except B3nConfigurationError as err:
    print(f"{type(err).__name__}: {err}")

heading("The sk- key in place of the system access token")
try:
    B3nClient(api_key=api_key, base_url=base_url, access_token=api_key, user_id=b3n.user_id or 1).account.whoami()
except B3nAuthenticationError as err:
    print(f"{type(err).__name__}: {err}")

# %% [markdown]
# ## Models this key can use

# %%
heading("Models")
models = client.models.list()
by_kind: dict[str, list[str]] = {}
for entry in models:
    by_kind.setdefault(entry.kind or "not in the catalog", []).append(entry.id)
for kind, names in sorted(by_kind.items()):
    print(f"{kind:>20}: {', '.join(sorted(names))}")

heading("Capabilities of the chat models (from the catalog)")
for entry in models:
    if entry.info is not None and entry.kind == "chat":
        info = entry.info
        method = info.structured_output_method or "not supported"
        print(f"{entry.id:>26}: context {info.context_window:>9,} | images {'yes' if info.image_inputs else 'no ':3} | "
              f"tools {'yes' if info.tool_calling else 'no ':3} | structured output: {method}")

# %%
b3n.cleanup()
