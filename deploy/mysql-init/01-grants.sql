-- Run once by the MySQL image on an empty data volume, after it created MYSQL_USER.
-- tradectl creates its own databases (<prefix>_00 ..., <prefix>_meta) with `tradectl shards init`,
-- so its user needs every privilege on databases whose name starts with "tradectl" (this covers
-- the default prefix and variants such as tradectl_staging), and nothing on the others.
GRANT ALL PRIVILEGES ON `tradectl%`.* TO 'tradectl'@'%';
