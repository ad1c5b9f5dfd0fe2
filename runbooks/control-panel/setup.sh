#!/usr/bin/env bash
# Build the control-panel example: the main database on MySQL/MariaDB and the drifted
# local SQLite copy (local.db next to this script).
#   ./setup.sh [DATABASE]        (default control_panel; server from MYSQL_HOST/MYSQL_USER)
# Then:
#   export CONTROL_PANEL_MAIN_URL=mysql://${MYSQL_USER:-root}@${MYSQL_HOST:-127.0.0.1}/control_panel
#   cutover run control-panel.toml --headless
set -euo pipefail
cd "$(dirname "$0")"
DB="${1:-control_panel}"
HOST="${MYSQL_HOST:-127.0.0.1}"
USER_="${MYSQL_USER:-root}"
mysql -h "$HOST" -u "$USER_" -e "DROP DATABASE IF EXISTS \`$DB\`; CREATE DATABASE \`$DB\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;"
mysql -h "$HOST" -u "$USER_" "$DB" < main.sql
rm -f local.db
sqlite3 local.db < local.sql
echo "main: mysql://$USER_@$HOST/$DB   local: $(pwd)/local.db"
echo "export CONTROL_PANEL_MAIN_URL=mysql://$USER_@$HOST/$DB"
