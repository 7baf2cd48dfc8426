// wearsync for Bangle.js: its entry in Settings > Apps (what the watch holds; the routine
// itself is chosen on the phone).
(function(back){
var w=global.WS,i=w?w.info():{prog:'',unacked:0,steps:0,entries:0};
E.showMenu({
'':{title:'wearsync'},
'< Back':back,
'Routine':{value:0,format:function(){return i.prog||'none';}},
'Steps':{value:i.steps|0},
'Entries':{value:i.entries|0},
'To sync':{value:i.unacked|0}
});
})
