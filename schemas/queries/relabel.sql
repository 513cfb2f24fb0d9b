-- Give the rows at these provenances a new label (a mutation: reclassify is rare and explicit).
ALTER TABLE ${database}.${table}
UPDATE category = {category:String}, error_class = {error_class:String}, rule = {rule:String},
       evidence = {evidence:String}, rules_version = {rules_version:String}
WHERE (topic, partition, offset) IN {keys:Array(Tuple(String, Int32, Int64))}
