const duck = require('@duckdb/node-api');
(async () => {
  const inst = await duck.DuckDBInstance.create(process.argv[2], { access_mode: 'READ_ONLY' });
  const c = await inst.connect();
  const cols = await c.runAndReadAll(`select column_name from information_schema.columns where table_name='data_1'`);
  console.log(cols.getRows().map(r=>r[0]).join(','));
  const r = await c.runAndReadAll(process.argv[3]);
  console.log(JSON.stringify(r.getRows(), (k,v)=> typeof v==='bigint'? Number(v): v));
})();
