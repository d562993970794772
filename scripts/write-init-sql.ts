/** Writes deploy/init-db.sql from the migrations; part of `npm run db:generate`. */
import { writeFileSync } from 'node:fs';
import { initDbSql } from './init-sql.js';

const target = new URL('../deploy/init-db.sql', import.meta.url);
writeFileSync(target, initDbSql());
console.log(`wrote ${target.pathname}`);
